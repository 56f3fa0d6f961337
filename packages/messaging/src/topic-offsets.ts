import type { Admin } from 'kafkajs';

const LEADERSHIP_SETTLING = new Set(['NOT_LEADER_FOR_PARTITION', 'LEADER_NOT_AVAILABLE', 'UNKNOWN_TOPIC_OR_PARTITION']);

/**
 * A topic's offsets per partition, asked again while its leadership is still
 * settling: a topic created moments ago (a first dead letter creates `<topic>.dlq`,
 * the first redrive `<topic>.dlq.redriven`) can be listed before its partition's
 * leader answers for it. Any other failure, or one that outlasts `timeoutMs`, is
 * thrown.
 */
export async function topicOffsetsOnceLed(admin: Admin, topic: string, timeoutMs = 10_000): ReturnType<Admin['fetchTopicOffsets']> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await admin.fetchTopicOffsets(topic);
    } catch (error) {
      if (!LEADERSHIP_SETTLING.has((error as { type?: string }).type ?? '') || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
