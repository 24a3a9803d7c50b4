import { desc, eq } from 'drizzle-orm';
import { trackingEvents } from '../db/schema/tracking-events.ts';
import { AppError } from '../errors.ts';
import { builder } from './builder.ts';
import { requireAdmin } from './require-user.ts';

interface TrackingEventShape {
  category: string;
  action: string;
  label: string | null;
  property: string | null;
  value: number | null;
  userId: number | null;
  namespaceId: number | null;
  projectId: number | null;
  client: string | null;
  createdAt: Date;
}

const TrackingEventRef = builder.objectRef<TrackingEventShape>('AiTrackingEvent').implement({
  description: "A tracking event (GitLab's Snowplow events for AI features).",
  fields: (t) => ({
    category: t.exposeString('category', { nullable: false }),
    action: t.exposeString('action', { nullable: false }),
    label: t.exposeString('label', { nullable: true }),
    property: t.exposeString('property', { nullable: true }),
    value: t.exposeFloat('value', { nullable: true }),
    userId: t.exposeInt('userId', { nullable: true }),
    namespaceId: t.exposeInt('namespaceId', { nullable: true }),
    projectId: t.exposeInt('projectId', { nullable: true }),
    client: t.exposeString('client', { nullable: true }),
    createdAt: t.field({ type: 'Time', nullable: false, resolve: (event) => event.createdAt.toISOString() }),
  }),
});

/** Enough for a page of recent events; older ones are for the database, not the API. */
const maxEvents = 500;

builder.queryField('aiTrackingEvents', (t) =>
  t.field({
    type: [TrackingEventRef],
    nullable: false,
    description: 'Recent AI tracking events, newest first. Administrators only.',
    args: {
      action: t.arg.string({ description: 'Only events with this action, e.g. `execute_llm_method`.' }),
      limit: t.arg.int({ description: `At most this many (default 50, at most ${maxEvents}).` }),
    },
    resolve: async (_root, args, context) => {
      requireAdmin(context);
      const limit = args.limit ?? 50;
      if (limit < 1 || limit > maxEvents) throw new AppError('BAD_USER_INPUT', `limit must be 1 to ${maxEvents}`);
      if (args.action?.includes('\u0000'))
        throw new AppError('BAD_USER_INPUT', 'action must not contain NUL characters');
      const query = context.services.database.db.select().from(trackingEvents);
      const filtered = args.action ? query.where(eq(trackingEvents.action, args.action)) : query;
      return filtered.orderBy(desc(trackingEvents.id)).limit(limit);
    },
  }),
);
