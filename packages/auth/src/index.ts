export {
  InvalidTokenError,
  MAX_SUBJECT_LENGTH,
  OPERATOR_ROLE,
  createVerifier,
  signToken,
  type SignOptions,
  type TokenClaims,
  type TokenVerifier,
  type VerifierOptions,
} from './token';
