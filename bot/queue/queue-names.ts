/**
 * BullMQ queue names, in one place because the pipeline, the admin script and the
 * metrics all address the same queues. (Queue names may not contain ':'.)
 */
import type { ChannelName } from '../dialogue/types.ts';

/** The inbound queue: wake jobs that drain conversation inboxes. */
export const INBOUND_QUEUE = 'inbound';

/** A channel's send queue. */
export function outboundQueueName(channel: ChannelName): string {
  return `out-${channel}`;
}
