import { SQSClient } from '@aws-sdk/client-sqs';
import type { TransportOptions } from '../transport';

export type SqsRole = 'producer' | 'consumer' | 'admin';

export interface SqsConnection {
  /** Empty or absent: AWS's own endpoint for the region. */
  endpoint?: string | undefined;
  region: string;
  /** Sent as the user agent suffix: names the client in the broker's logs. */
  clientId?: string;
  onRequest?: TransportOptions['onRequest'];
}

/**
 * One client per role, so `onRequest` can say who asked. Credentials come from the
 * SDK's default chain (environment, profile, role) and are never logged.
 * `requestTimeoutMs` must exceed the longest long poll the role makes.
 */
export function createSqsClient(connection: SqsConnection, role: SqsRole, requestTimeoutMs: number): SQSClient {
  const client = new SQSClient({
    region: connection.region,
    // With an explicit endpoint (ElasticMQ, a VPC endpoint) every request goes there,
    // whatever host the server writes into the queue URLs it hands out.
    ...(connection.endpoint ? { endpoint: connection.endpoint, useQueueUrlAsEndpoint: false } : {}),
    maxAttempts: 3,
    ...(connection.clientId ? { customUserAgent: connection.clientId } : {}),
    requestHandler: { connectionTimeout: 3_000, requestTimeout: requestTimeoutMs },
  });
  const onRequest = connection.onRequest;
  if (onRequest) {
    client.middlewareStack.add(
      (next, context) => (args) => {
        onRequest(role, (context.commandName ?? 'Unknown').replace(/Command$/, ''));
        return next(args);
      },
      { step: 'initialize', name: 'orderflowOnRequest' },
    );
  }
  return client;
}
