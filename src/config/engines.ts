/** The database engines dbdrill drives: a leaf module, so manifests and policies can name them without the target type. */
export const ENGINES = ['postgres', 'mysql'] as const;
export type Engine = (typeof ENGINES)[number];
