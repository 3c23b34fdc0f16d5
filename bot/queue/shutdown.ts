/**
 * Graceful shutdown on SIGTERM/SIGINT (deploys, Ctrl-C): stop taking new work, let
 * work in flight finish or hand it back, close connections, exit. Without it a deploy
 * would cut replies half-sent and leave jobs to wait for their locks to expire.
 */
import type { Logger } from '../dialogue/engine.ts';

/** One thing to stop, in order: listeners first, then pipelines, then connections. */
export interface ShutdownStep {
  name: string;
  close(): Promise<unknown> | unknown;
}

export interface ShutdownOptions {
  log?: Logger;
  /** After this long the process exits anyway; unfinished jobs are picked up elsewhere when their locks expire. */
  timeoutMs?: number;
  signals?: NodeJS.Signals[];
  /** Replaced in tests. */
  exit?: (code: number) => void;
}

/** Handle returned by `installShutdown`. */
export interface Shutdown {
  /** Runs the steps once (later calls return the same promise) and then exits. */
  run(reason: string): Promise<void>;
  /** Removes the signal handlers (tests). */
  uninstall(): void;
}

/**
 * Installs signal handlers that run `steps` in order, each awaited, within `timeoutMs`
 * overall. A second signal exits at once.
 */
export function installShutdown(steps: ShutdownStep[], opts: ShutdownOptions = {}): Shutdown {
  const log = opts.log;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const timeoutMs = opts.timeoutMs ?? 25_000;
  const signals = opts.signals ?? ['SIGTERM', 'SIGINT'];
  let running: Promise<void> | undefined;

  const run = (reason: string): Promise<void> => {
    running ??= (async () => {
      log?.info({ reason }, 'shutting down: no new work, finishing what is in flight');
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
        timer.unref();
      });
      let failed = false;
      const all = (async () => {
        for (const step of steps) {
          try {
            await step.close();
          } catch (err) {
            failed = true;
            log?.error({ err, step: step.name }, 'shutdown step failed');
          }
        }
      })();
      const outcome = await Promise.race([all.then(() => 'done' as const), deadline]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        log?.error({ timeoutMs }, 'shutdown timed out; unfinished jobs will be retried when their locks expire');
        exit(1);
        return;
      }
      log?.info({}, 'shutdown complete');
      exit(failed ? 1 : 0);
    })();
    return running;
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    if (running) {
      log?.warn({ signal }, 'second signal: exiting now');
      exit(1);
      return;
    }
    void run(signal);
  };
  for (const s of signals) process.on(s, onSignal);
  return {
    run,
    uninstall: () => {
      for (const s of signals) process.off(s, onSignal);
    },
  };
}
