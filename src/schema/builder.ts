import SchemaBuilder from '@pothos/core';
import type { GraphQLContext } from '../context.ts';

/** The builder holds no types: each type lives in its own file beside its root fields. */
export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  Scalars: {
    ID: { Input: string; Output: string };
    Time: { Input: string; Output: string };
    JSON: { Input: unknown; Output: unknown };
    AiModelID: { Input: string; Output: string };
    UserID: { Input: string; Output: string };
    NamespaceID: { Input: string; Output: string };
    ProjectID: { Input: string; Output: string };
    AiConversationThreadID: { Input: string; Output: string };
  };
}>({});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
