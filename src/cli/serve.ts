// Placeholder until this command lands; it says so instead of pretending to work.
export async function main(_args: string[]): Promise<number> {
  process.stderr.write('infra-agent: this command is not built yet\n');
  return 2;
}
