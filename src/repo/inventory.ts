// The words of the Terraform inventory (RepoIndex and what it lists, each with its file and line): plain types shared by
// the indexer (index.ts), its summary (index-summary.ts) and every reader of an index.
export interface IndexedFile {
  /** Relative to the repo root, posix separators. */
  path: string;
  sha256: string;
  bytes: number;
}

export interface Located {
  /** The directory (module) the block lives in, relative to the root, posix, '.' for the root. */
  dir: string;
  file: string;
  line: number;
}

export interface ResourceRef extends Located {
  type: string;
  name: string;
}

export interface ModuleCall extends Located {
  name: string;
  source: string;
  version?: string | undefined;
}

export interface VariableDecl extends Located {
  name: string;
  hasDefault: boolean;
  sensitive: boolean;
  type?: string | undefined;
  description?: string | undefined;
}

export interface OutputDecl extends Located {
  name: string;
  sensitive: boolean;
  description?: string | undefined;
}

export interface ProviderRef extends Located {
  /** Local name (`aws`), from `required_providers` or a `provider` block. */
  name: string;
  source?: string | undefined;
  version?: string | undefined;
  alias?: string | undefined;
  /** Where it was found: a `required_providers` entry or a `provider` configuration block. */
  kind: 'required' | 'config';
}

export interface BackendRef extends Located {
  /** `s3`, `gcs`, `local`… or `cloud` for a `cloud {}` block. */
  type: string;
}

export interface IndexError {
  file: string;
  line: number;
  message: string;
}

export interface RepoIndex {
  /** Absolute path that was indexed. */
  root: string;
  files: IndexedFile[];
  /** Dirs with a backend, a provider config or required_providers (and not only used as a local module), or declared. */
  rootModules: string[];
  resources: ResourceRef[];
  dataSources: ResourceRef[];
  modules: ModuleCall[];
  variables: VariableDecl[];
  outputs: OutputDecl[];
  providers: ProviderRef[];
  backends: BackendRef[];
  errors: IndexError[];
  stats: { parsed: number; cached: number; skipped: number };
}
