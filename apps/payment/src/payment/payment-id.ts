import { nameBasedUuid } from '@orderflow/domain';

/** Fixed namespace of the payment ids this service derives. */
const NAMESPACE = '5b0c1f6e-9d2a-4c7e-8f3b-6a1d2e4c9f70';

/**
 * The payment id for the event that asks for the charge: the same OrderPlaced,
 * redelivered or redriven, yields the same id, so the handler needs no random source.
 */
export const paymentIdFor = (causingEventId: string): string => nameBasedUuid(NAMESPACE, `${causingEventId}:payment`);
