import { CreateQueueCommand, DeleteQueueCommand, ReceiveMessageCommand, SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { brokerEnv, type PrivateBroker } from '@orderflow/testkit';

/**
 * Whether the suite's ElasticMQ keeps a FIFO message group in order across its own
 * restart, as the broker-kill scenario needs. One message is received and left in
 * flight, the server is killed and started again, and a second message of the same
 * group is sent: SQS delivers nothing of that group while the first is in flight.
 * Returns what the receive after the restart got (empty when the order holds).
 */
export async function elasticMqKeepsFifoOrderAcrossRestart(broker: PrivateBroker, endpoint: string): Promise<{ kept: boolean; delivered: string[] }> {
  // The region and credentials the suite gives its services (placeholders for ElasticMQ).
  const { AWS_REGION: region, AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = brokerEnv();
  const client = new SQSClient({ endpoint, region, credentials: { accessKeyId: accessKeyId!, secretAccessKey: secretAccessKey! } });
  const name = `chaos-fifo-check-${process.pid}-${Date.now()}.fifo`;
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: { FifoQueue: 'true', VisibilityTimeout: '30' } }));
  const send = (body: string) => client.send(new SendMessageCommand({ QueueUrl, MessageBody: body, MessageGroupId: 'order-1', MessageDeduplicationId: body }));
  const receive = async () => (await client.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }))).Messages?.map((m) => m.Body ?? '') ?? [];
  try {
    await send('first');
    const before = await receive();
    if (before.join() !== 'first') throw new Error(`expected to receive "first" before the restart, got ${JSON.stringify(before)}`);
    await broker.kill();
    await broker.start();
    await send('second');
    const delivered = await receive();
    return { kept: delivered.length === 0, delivered };
  } finally {
    await client.send(new DeleteQueueCommand({ QueueUrl })).catch(() => undefined);
    client.destroy();
  }
}
