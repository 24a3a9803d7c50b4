import { GraphQLError, Kind, type ValueNode } from 'graphql';
import { type GlobalIdType, parseGlobalId, parseGlobalIdOf } from '../gid.ts';
import { builder } from './builder.ts';

function globalIdScalar(name: string, description: string, types: readonly GlobalIdType[] | 'any') {
  const parse = (value: unknown): string => {
    try {
      const globalId = types === 'any' ? parseGlobalId(value) : parseGlobalIdOf(value, types);
      return `gid://gitlab/${globalId.type}/${globalId.id}`;
    } catch (error) {
      throw new GraphQLError((error as Error).message, { extensions: { code: 'BAD_USER_INPUT' } });
    }
  };
  builder.scalarType(name as 'AiModelID', {
    description,
    serialize: (value) => String(value),
    parseValue: parse,
    parseLiteral: (node: ValueNode) => {
      if (node.kind !== Kind.STRING) throw new GraphQLError(`${name} must be a string`);
      return parse(node.value);
    },
  });
}

globalIdScalar('AiModelID', 'A global id of a resource an AI action can act on (`gid://gitlab/Issue/1`).', [
  'Issue',
  'MergeRequest',
  'Epic',
  'Ci::Build',
  'Vulnerability',
  'Project',
  'Group',
  'User',
]);
globalIdScalar('UserID', 'A global id of a user (`gid://gitlab/User/1`).', ['User']);
globalIdScalar('NamespaceID', 'A global id of a namespace (`gid://gitlab/Group/1`).', ['Group']);
globalIdScalar('ProjectID', 'A global id of a project (`gid://gitlab/Project/1`).', ['Project']);
globalIdScalar(
  'AiConversationThreadID',
  'A global id of a conversation thread (`gid://gitlab/Ai::Conversation::Thread/1`).',
  ['Ai::Conversation::Thread'],
);

builder.scalarType('Time', {
  description: 'An ISO-8601 timestamp.',
  serialize: (value) => String(value),
  parseValue: (value) => {
    const date = new Date(String(value));
    if (Number.isNaN(date.getTime())) throw new GraphQLError('Time must be an ISO-8601 timestamp');
    return date.toISOString();
  },
});

builder.scalarType('JSON', {
  description: 'Arbitrary JSON.',
  serialize: (value) => value,
  parseValue: (value) => value,
});
