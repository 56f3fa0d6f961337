import { nameBasedUuid } from '@orderflow/domain';

/** Fixed namespace of the shipment ids this service derives. */
const NAMESPACE = 'a3e1d7c2-b94f-4e0d-9c6a-2f8b1e7d5c34';

/**
 * The shipment id for the event that asks for a label: the same OrderPlaced,
 * redelivered or redriven, yields the same id, so the handler needs no random source.
 */
export const shipmentIdFor = (causingEventId: string): string => nameBasedUuid(NAMESPACE, `${causingEventId}:shipment`);
