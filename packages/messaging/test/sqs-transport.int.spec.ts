import { sqsTransport } from './sqs-support';
import { describeTransportContract } from './transport-contract';

const VISIBILITY_TIMEOUT_SECONDS = 5;

describeTransportContract({
  name: 'SQS',
  create: (prefix) => sqsTransport(prefix, { visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS }),
  redeliveryMs: VISIBILITY_TIMEOUT_SECONDS * 1000,
});
