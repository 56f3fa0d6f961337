import type { AnyEvent, DomainEvent } from '@orderflow/contracts';
import type { Decider } from '@orderflow/domain';
import type { EntityManager } from 'typeorm';
import { appendToStream, readStream } from './event-store';

export interface DecideResult<State> {
  state: State;
  appended: AnyEvent[];
}

/**
 * Load → decide → append, in the caller's transaction. A concurrent writer makes
 * the append throw ConcurrencyError; `inTransaction` then retries from the load.
 */
export async function decideAndAppend<State, Command, Event extends DomainEvent>(
  tx: EntityManager,
  streamId: string,
  decider: Decider<State, Command, Event>,
  command: Command,
  toEnvelope: (event: Event) => AnyEvent,
  shouldPublish: (event: Event) => boolean = () => true,
): Promise<DecideResult<State>> {
  const stream = await readStream(tx, streamId);
  const state = stream.events.reduce((s, e) => decider.evolve(s, e as unknown as Event), decider.initialState());
  const decided = decider.decide(command, state);
  const appended = decided.map(toEnvelope);
  await appendToStream(
    tx,
    streamId,
    stream.version,
    appended.map((event, i) => ({ event, publish: shouldPublish(decided[i]!) })),
  );
  return { state: decided.reduce(decider.evolve, state), appended };
}
