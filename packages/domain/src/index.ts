export { stateFrom, type Decider } from './decider';
export { DomainError, type DomainErrorCode } from './errors';
export { deciderSpecification, type DeciderSpecification, type DeciderThen } from './decider-specification';
export { nameBasedUuid } from './name-based-uuid';
