/**
 * AppSync's per-request cost limits, set on the deployed API by CDK and enforced the same way by the
 * local runtime (one place, so the two cannot disagree).
 */
export const API_LIMITS = {
  /**
   * Deepest field nesting a request may select; a root field is depth 1. The API's own types nest at
   * most 5 deep, so only introspection comes near it: the standard introspection query that GraphiQL
   * and codegen send is 15 deep, and introspection cycles (`fields { type { fields … } } }`) are what
   * the limit stops.
   */
  queryDepthLimit: 15,
  /**
   * Resolver invocations one request may make (AppSync counts each invocation, so aliases and list
   * items count). A default page of 20 sync jobs with their `plan` plus a few root fields fits; 500
   * aliased `me` fields or 50 aliased MAL updates do not.
   */
  resolverCountLimit: 25,
} as const;
