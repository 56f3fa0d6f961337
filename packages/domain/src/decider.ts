/**
 * Pure decision logic of one aggregate or process: `decide(command, state) → events`,
 * `evolve(state, event) → state`. No I/O; time and ids come in the command.
 */
export interface Decider<State, Command, Event> {
  initialState: () => State;
  evolve: (state: State, event: Event) => State;
  decide: (command: Command, state: State) => Event[];
}

/** The state after `events`, from the decider's initial state. */
export function stateFrom<State, Command, Event>(decider: Decider<State, Command, Event>, events: readonly Event[]): State {
  return events.reduce(decider.evolve, decider.initialState());
}
