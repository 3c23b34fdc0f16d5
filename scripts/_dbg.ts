import { buildKnowledgeVersion } from '../bot/assistant.ts';
const v = buildKnowledgeVersion();
for (const t of process.argv.slice(2)) console.log(JSON.stringify(v.understander.explain(t)));
