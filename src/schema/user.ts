import { eq } from 'drizzle-orm';
import { users } from '../db/schema/users.ts';
import { toGlobalId } from '../gid.ts';
import { builder } from './builder.ts';

interface UserShape {
  id: number;
  username: string;
  name: string;
}

export const UserRef = builder.objectRef<UserShape>('UserCore').implement({
  description: 'A user.',
  fields: (t) => ({
    id: t.field({ type: 'UserID', nullable: false, resolve: (user) => toGlobalId('User', user.id) }),
    username: t.exposeString('username', { nullable: false }),
    name: t.exposeString('name', { nullable: false }),
  }),
});

builder.queryField('currentUser', (t) =>
  t.field({
    type: UserRef,
    nullable: true,
    description: 'The signed-in user, or null for anonymous requests.',
    resolve: async (_root, _arguments, context) => {
      const userId = context.authentication?.user.id;
      if (userId === undefined) return null;
      const [user] = await context.services.database.db
        .select({ id: users.id, username: users.username, name: users.name })
        .from(users)
        .where(eq(users.id, userId))
        .limit(1);
      return user ?? null;
    },
  }),
);
