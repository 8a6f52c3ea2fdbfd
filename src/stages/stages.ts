// The stages of one run, in order, as data flows: the single list the pipeline runs and the progress comment shows.
// generate: checkout → index → project → agent → checks → publish; revise: the same on the PR's branch with the
// agent in revision mode; plan (a command, or a person's push): the agent is skipped.

export const STAGES = [
  { name: 'checkout', label: 'Check out the repository' },
  { name: 'index', label: 'Index the Terraform code' },
  { name: 'project', label: 'Pick the project' },
  { name: 'agent', label: 'Write the change (agent)' },
  { name: 'checks', label: 'fmt · validate · plan · policy gate' },
  { name: 'publish', label: 'Publish the branch, pull request and checks' },
] as const;

export type StageName = (typeof STAGES)[number]['name'];
