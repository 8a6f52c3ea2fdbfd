#!/usr/bin/env node
// infra-agent's command line. Holds no logic: each command is a module in src/cli/ exporting `main(args)`.
const COMMANDS: Record<
  string,
  { summary: string; load: () => Promise<{ main: (args: string[]) => Promise<number> }> }
> = {
  doctor: { summary: 'what is installed, the versions, and what is missing', load: () => import('./cli/doctor.js') },
  index: {
    summary: 'index <dir> [--format text|json]: the Terraform inventory of a repo',
    load: () => import('./cli/index-cmd.js'),
  },
  plan: {
    summary: 'plan <dir> [--format markdown|json]: init + plan a root module and summarise it',
    load: () => import('./cli/plan.js'),
  },
  check: {
    summary: 'check <dir> [--plan plan.json] [--format markdown|json|sarif] [--config file]: the policy gate',
    load: () => import('./cli/check.js'),
  },
  cost: {
    summary: 'cost <dir> [--plan plan.json] [--format markdown|json]: the monthly cost of a plan, before and after',
    load: () => import('./cli/cost.js'),
  },
  drift: {
    summary: 'drift <dir> [--format markdown|json]: refresh-only + normal plan; exit 0 no drift, 1 drift, 2 error',
    load: () => import('./cli/drift.js'),
  },
  generate: {
    summary: 'generate --repo DIR (--request TEXT | --request-file F): let the agent write a change',
    load: () => import('./cli/generate.js'),
  },
  serve: { summary: 'serve [--role web|worker|all]: run the GitHub App', load: () => import('./cli/serve.js') },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: infra-agent <command> [options]\n\n${lines.join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command && name === 'demo') {
    // The offline demo runs the test doubles (GitHub stand-in, scripted model), which the product never ships.
    process.stderr.write('infra-agent: the offline demo runs from a checkout of this repository: `npm run demo`\n');
    return 2;
  }
  if (!command) {
    process.stderr.write(`infra-agent: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const mod = await command.load();
  return mod.main(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`infra-agent: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
