import { deciderSpecification } from './decider-specification';
import type { Decider } from './decider';
import { DomainError } from './errors';

type Event = { type: 'Opened' } | { type: 'Closed' };
type Command = { type: 'Open' } | { type: 'Close' };
type State = 'none' | 'open' | 'closed';

const door: Decider<State, Command, Event> = {
  initialState: () => 'none',
  evolve: (_state, event) => (event.type === 'Opened' ? 'open' : 'closed'),
  decide: (command, state) => {
    if (command.type === 'Open') return state === 'open' ? [] : [{ type: 'Opened' }];
    if (state !== 'open') throw new DomainError('ILLEGAL_STATE', `cannot close a door that is ${state}`);
    return [{ type: 'Closed' }];
  },
};

const spec = deciderSpecification(door);

describe('decider specification', () => {
  it('passes when the decided events are the expected ones', () => {
    spec.given().when({ type: 'Open' }).then([{ type: 'Opened' }]);
  });

  it('fails when the decided events differ', () => {
    expect(() => spec.given().when({ type: 'Open' }).then([{ type: 'Closed' }])).toThrow();
  });

  it('recognises a command that changes nothing', () => {
    spec.given({ type: 'Opened' }).when({ type: 'Open' }).thenNothingHappened();
    expect(() => spec.given().when({ type: 'Open' }).thenNothingHappened()).toThrow();
  });

  it('returns a coded refusal and fails on a wrong code, a wrong message or no refusal', () => {
    expect(spec.given().when({ type: 'Close' }).thenThrows('ILLEGAL_STATE', /none/).message).toBe('cannot close a door that is none');
    expect(() => spec.given().when({ type: 'Close' }).thenThrows('NOT_FOUND')).toThrow(/ILLEGAL_STATE/);
    expect(() => spec.given().when({ type: 'Close' }).thenThrows('ILLEGAL_STATE', /open/)).toThrow(/does not match/);
    expect(() => spec.given({ type: 'Opened' }).when({ type: 'Close' }).thenThrows('ILLEGAL_STATE')).toThrow(/returned/);
  });

  it('marks domain refusals as not retriable', () => {
    expect(new DomainError('VALIDATION', 'x').retriable).toBe(false);
  });
});
