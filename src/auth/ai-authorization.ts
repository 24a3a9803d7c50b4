import type { AddOn, UnitPrimitiveBundles } from '../actions/cloud-connector.ts';
import type { AiActionDefinition } from '../actions/define-ai-action.ts';
import type { Group } from '../db/schema/groups.ts';
import type { FeatureFlags, FlagActor } from '../feature-flags/feature-flags.ts';
import type { AccessDirectory } from './access-directory.ts';
import { canReadResource } from './authorize.ts';
import type { Resource } from './resources.ts';
import type { AuthUser } from './tokens.ts';

/** GitLab's refusal messages (reference §1.1, §2.2, §6.8). */
export const refusalMessages = {
  globalSwitch: 'The ai_global_switch feature flag is disabled.',
  chatSwitch: 'You do not have access to chat feature.',
  featureFlag: 'required feature flag is disabled.',
  notPermitted: 'AI features are not enabled or resource is not permitted to be sent.',
  resourceNotAvailable:
    "The resource that you are attempting to access does not exist or you don't have permission to perform this action",
  duoFeaturesDisabled: 'This feature is only allowed in groups or projects that enable this feature.',
  noChatAccess: 'You do not have access to chat feature.',
} as const;

export interface AuthorizationInput {
  user: AuthUser;
  action: AiActionDefinition;
  resource: Resource | null;
}

export interface AuthorizationDependencies {
  flags: FeatureFlags;
  directory: AccessDirectory;
  bundles: UnitPrimitiveBundles;
}

/** What the rules share about the request, computed once. */
interface RequestFacts extends AuthorizationInput {
  /** The resource's groups, nearest first; empty without a resource or for a user resource. */
  groups: Group[];
  /** The project whose settings apply, when the resource lives in one. */
  project: Extract<Resource, { project: unknown }>['project'] | null;
  actor: FlagActor;
}

/** A rule returns null when it passes, or the message of its refusal. */
type Rule = (facts: RequestFacts, dependencies: AuthorizationDependencies) => Promise<string | null>;

const isChat = (action: AiActionDefinition) => action.actionName === 'chat';

/** 1. The kill switches: `ai_duo_chat_switch` for chat, `ai_global_switch` for everything else. */
const globalSwitch: Rule = async ({ action }, { flags }) => {
  if (isChat(action)) return (await flags.isEnabled('ai_duo_chat_switch')) ? null : refusalMessages.chatSwitch;
  return (await flags.isEnabled('ai_global_switch')) ? null : refusalMessages.globalSwitch;
};

/**
 * 2. The action's own flag, for the user and the resource's project and root group. Catalogue flags are
 * rolled out (on while they have no row); an operator turns one off, or on for chosen actors only.
 */
const featureFlag: Rule = async ({ action, actor }, { flags }) =>
  !action.featureFlag || (await flags.isEnabled(action.featureFlag, actor, { defaultEnabled: true }))
    ? null
    : refusalMessages.featureFlag;

/** 3. Read access to the resource: membership, private projects, confidentiality. */
const readAccess: Rule = async ({ user, resource }, { directory }) =>
  !resource || (await canReadResource(directory, user, resource)) ? null : refusalMessages.resourceNotAvailable;

/** 4. "Use GitLab Duo features" on the project and every group above it. */
const duoFeaturesEnabled: Rule = async ({ groups, project }) => {
  if (project && !project.duoFeaturesEnabled) return refusalMessages.duoFeaturesDisabled;
  return groups.every((group) => group.duoFeaturesEnabled) ? null : refusalMessages.duoFeaturesDisabled;
};

function addOnAllowedByPlan(addOn: AddOn, plan: Group['plan']): boolean {
  // Duo Pro is sold with Premium and Ultimate; Duo Enterprise with Ultimate only.
  return addOn === 'duo_pro' ? plan === 'premium' || plan === 'ultimate' : plan === 'ultimate';
}

/**
 * 5. Licence and seat: the user holds a seat of an add-on that bundles the action's unit primitive,
 * bought by the resource's root group on a plan that includes it. Without a resource (chat), a seat
 * in any group will do.
 */
const licenceAndSeat: Rule = async ({ user, action, groups }, { directory, bundles }) => {
  const refusal = isChat(action) ? refusalMessages.noChatAccess : refusalMessages.notPermitted;
  const addOns = bundles.get(action.unitPrimitive);
  if (!addOns || addOns.size === 0) return refusal;
  const seats = (await directory.seats(user.id)).filter((seat) => addOns.has(seat.addOn));
  const root = groups.at(-1);
  if (!root) return seats.length > 0 ? null : refusal;
  const usable = seats.some((seat) => seat.groupId === root.id && addOnAllowedByPlan(seat.addOn, root.plan));
  return usable ? null : refusal;
};

/** 6. StageCheck: experimental and beta actions need "Experiment and beta features" on the root group. */
const stageCheck: Rule = async ({ action, groups }) => {
  if (action.maturity === 'ga') return null;
  const root = groups.at(-1);
  return root?.experimentFeaturesEnabled ? null : refusalMessages.notPermitted;
};

/** The chain, in GitLab's order: cheap switches first, then access, then licence and stage. */
export const authorizationRules: readonly Rule[] = [
  globalSwitch,
  featureFlag,
  readAccess,
  duoFeaturesEnabled,
  licenceAndSeat,
  stageCheck,
];

async function factsFor(input: AuthorizationInput, directory: AccessDirectory): Promise<RequestFacts> {
  const resource = input.resource;
  const project = resource && 'project' in resource ? resource.project : null;
  const groupId = project ? project.groupId : resource && 'group' in resource ? resource.group.id : undefined;
  const groups = groupId === undefined ? [] : await directory.groupChain(groupId);
  const actor: FlagActor = { userId: input.user.id };
  if (project) actor.projectId = project.id;
  const root = groups.at(-1);
  if (root) actor.groupId = root.id;
  return { ...input, groups, project, actor };
}

/**
 * Runs every rule in order and returns the first refusal's message, or null when the user may run
 * the action on the resource. Administrators pass read access but not licensing: seats are per user.
 */
export async function authorizeAiAction(
  input: AuthorizationInput,
  dependencies: AuthorizationDependencies,
): Promise<string | null> {
  const facts = await factsFor(input, dependencies.directory);
  for (const rule of authorizationRules) {
    const refusal = await rule(facts, dependencies);
    if (refusal) return refusal;
  }
  return null;
}
