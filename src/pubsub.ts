import { RedisPubSub } from 'graphql-redis-subscriptions';
import type { AiMessage, AiMessageRouting } from './ai-message.ts';
import { createRedis, type Redis, waitUntilReady } from './redis.ts';

/** The arguments of `aiCompletionResponse`; a subscriber receives triggers whose argument set equals its own. */
export interface SubscriptionArguments {
  userId: string;
  resourceId?: string | null;
  clientSubscriptionId?: string | null;
  aiAction?: string | null;
}

/**
 * One Redis channel per distinct argument set, graphql-ruby style: the channel name is the
 * argument set with null and absent arguments dropped and keys in a fixed order.
 */
export function channelFor(prefix: string, argumentSet: SubscriptionArguments): string {
  const parts: string[] = [`user=${argumentSet.userId}`];
  if (argumentSet.aiAction) parts.push(`action=${argumentSet.aiAction}`);
  if (argumentSet.resourceId) parts.push(`resource=${argumentSet.resourceId}`);
  if (argumentSet.clientSubscriptionId) parts.push(`client=${argumentSet.clientSubscriptionId}`);
  return `${prefix}aiCompletionResponse:${parts.join('|')}`;
}

/**
 * The argument sets a message is triggered on (reference §2.6): `{userId, aiAction}` and the legacy
 * `{userId, resourceId}`, each with `clientSubscriptionId` when `withClientSubscriptionId` is set.
 */
export function argumentSetsFor(routing: AiMessageRouting, withClientSubscriptionId: boolean): SubscriptionArguments[] {
  const clientSubscriptionId = withClientSubscriptionId ? routing.clientSubscriptionId : null;
  return [
    { userId: routing.userGid, aiAction: routing.actionName, clientSubscriptionId },
    { userId: routing.userGid, resourceId: routing.resourceGid, clientSubscriptionId },
  ];
}

export interface AiPubSub {
  /**
   * Publishes a message on every channel of the argument sets. With `logTo`, the message is first appended
   * to that Redis stream on the same connection, so the log and the channels see messages in one order.
   */
  publish(argumentSets: SubscriptionArguments[], message: AiMessage, options?: { logTo?: string }): Promise<void>;
  /**
   * Publishes a request's final message at most once, atomically (one Lua script): claims `final` in the
   * request's record hash, appends the message to its log and publishes it. A process that dies after
   * sending the script cannot leave the claim without the message. False when it was already claimed.
   */
  publishOnce(
    argumentSets: SubscriptionArguments[],
    message: AiMessage,
    keys: { record: string; log: string; recordSeconds: number; logSeconds: number },
  ): Promise<boolean>;
  subscribe(argumentSet: SubscriptionArguments): AsyncIterableIterator<AiMessage>;
  /** Resolves when both connections are ready. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/** KEYS: record hash, log stream. ARGV: message id, payload, record TTL, log TTL, channels…. */
const publishOnceScript = `
if redis.call('HSETNX', KEYS[1], 'final', ARGV[1]) == 0 then return 0 end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
redis.call('XADD', KEYS[2], '*', 'message', ARGV[2])
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[4]))
for index = 5, #ARGV do redis.call('PUBLISH', ARGV[index], ARGV[2]) end
return 1
`;

/** Redis pub/sub through graphql-redis-subscriptions: one publisher and one subscriber connection per process. */
export function createAiPubSub(options: { redisUrl: string; prefix: string; name: string }): AiPubSub {
  const publisher: Redis = createRedis(options.redisUrl, 'command', `${options.name}:publish`, {
    autoPipelining: true,
  });
  const subscriber: Redis = createRedis(options.redisUrl, 'blocking', `${options.name}:subscribe`);
  publisher.on('error', () => undefined);
  subscriber.on('error', () => undefined);
  const pubsub = new RedisPubSub({ publisher, subscriber });
  return {
    async publish(argumentSets, message, publishOptions = {}) {
      const channels = new Set(argumentSets.map((argumentSet) => channelFor(options.prefix, argumentSet)));
      const logged = publishOptions.logTo
        ? publisher.xadd(publishOptions.logTo, '*', 'message', JSON.stringify(message))
        : undefined;
      await Promise.all([logged, ...[...channels].map((channel) => pubsub.publish(channel, message))]);
    },
    async publishOnce(argumentSets, message, keys) {
      const channels = [...new Set(argumentSets.map((argumentSet) => channelFor(options.prefix, argumentSet)))];
      const published = await publisher.eval(
        publishOnceScript,
        2,
        keys.record,
        keys.log,
        message.id,
        JSON.stringify(message),
        String(keys.recordSeconds),
        String(keys.logSeconds),
        ...channels,
      );
      return published === 1;
    },
    subscribe(argumentSet) {
      return pubsub.asyncIterableIterator<AiMessage>(channelFor(options.prefix, argumentSet));
    },
    async ready() {
      await Promise.all([waitUntilReady(publisher), waitUntilReady(subscriber)]);
    },
    async close() {
      await pubsub.close();
    },
  };
}
