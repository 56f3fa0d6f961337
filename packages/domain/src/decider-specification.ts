import { deepStrictEqual, fail } from 'node:assert/strict';
import type { Decider } from './decider';
import { DomainError, type DomainErrorCode } from './errors';

export interface DeciderThen<Event> {
  /** The command produced exactly these events, in this order. */
  then(expected: readonly Event[]): void;
  /** The command was accepted and changed nothing (a no-op, e.g. a duplicate). */
  thenNothingHappened(): void;
  /** The command was refused with a DomainError of this code; returns it for further checks. */
  thenThrows(code: DomainErrorCode, message?: RegExp): DomainError;
}

export interface DeciderSpecification<Command, Event> {
  given(...history: Event[]): { when(command: Command): DeciderThen<Event> };
}

/**
 * Given / when / then for a decider, with no I/O: `given(past events).when(command)`
 * then the events it decides, nothing, or a coded refusal.
 */
export function deciderSpecification<State, Command, Event>(
  decider: Decider<State, Command, Event>,
): DeciderSpecification<Command, Event> {
  return {
    given: (...history) => ({
      when: (command) => {
        const run = (): Event[] => decider.decide(command, history.reduce(decider.evolve, decider.initialState()));
        return {
          then: (expected) => deepStrictEqual(run(), expected),
          thenNothingHappened: () => deepStrictEqual(run(), []),
          thenThrows: (code, message) => {
            let decided: Event[];
            try {
              decided = run();
            } catch (error) {
              if (!(error instanceof DomainError)) throw error;
              deepStrictEqual(error.code, code, `expected a ${code} refusal, got ${error.code}: ${error.message}`);
              if (message && !message.test(error.message)) fail(`refusal "${error.message}" does not match ${String(message)}`);
              return error;
            }
            return fail(`expected a ${code} refusal, but the decider returned ${JSON.stringify(decided)}`);
          },
        };
      },
    }),
  };
}
