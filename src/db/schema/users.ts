import { boolean, date, index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

export const users = pgTable('users', {
  id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
  username: text('username').notNull().unique(),
  name: text('name').notNull(),
  email: text('email').notNull().unique(),
  /** Instance administrators read everything and manage flags. */
  admin: boolean('admin').notNull().default(false),
  /** `active` or `blocked`; a blocked user's tokens stop working. */
  state: text('state', { enum: ['active', 'blocked'] })
    .notNull()
    .default('active'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Personal access tokens. Only the SHA-256 digest of a token is stored, never the token. */
export const personalAccessTokens = pgTable(
  'personal_access_tokens',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    tokenDigest: text('token_digest').notNull().unique(),
    /** GitLab scopes: `api` (everything), `ai_features` (AI only), `read_api` (read only). */
    scopes: text('scopes').array().notNull(),
    expiresAt: date('expires_at', { mode: 'string' }),
    revoked: boolean('revoked').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('personal_access_tokens_user_id_idx').on(table.userId)],
);

export type User = typeof users.$inferSelect;
export type PersonalAccessToken = typeof personalAccessTokens.$inferSelect;
