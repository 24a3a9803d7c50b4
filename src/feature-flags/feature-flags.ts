/** Who a flag is checked for: GitLab's actors. Any may be absent. */
export interface FlagActor {
  userId?: number;
  groupId?: number;
  projectId?: number;
}

/** Multi-level feature flags (boolean, actor and percentage gates), cached per process. */
export interface FeatureFlags {
  /**
   * Whether `name` is on for the actor. An unknown flag is off, except ops flags (kill switches such as
   * `ai_global_switch`), which default on. `defaultEnabled` applies to a flag with no row and no
   * definition, e.g. a per-action flag the catalogue declares (rolled-out features default on).
   */
  isEnabled(name: string, actor?: FlagActor, options?: { defaultEnabled?: boolean }): Promise<boolean>;
}
