// The `synack` command line. Node-only (it may import node: modules).
// Each command lives in its own file, src/cli/cmd-<name>.ts, exporting
// `run(argv: string[]): Promise<number>` and `summary: string`.

const COMMANDS = ['demo', 'scenario', 'lab', 'serve', 'connect', 'get', 'pkt', 'bench', 'relay', 'gateway'] as const;

interface CommandModule { run(argv: string[]): Promise<number>; summary: string }

async function load(name: string): Promise<CommandModule | null> {
  try {
    return (await import(`./cmd-${name}.js`)) as CommandModule;
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(`cmd-${name}`)) return null;
    throw e;
  }
}

async function usage(): Promise<string> {
  const lines = ['usage: synack <command> [options]', '', 'commands:'];
  for (const name of COMMANDS) {
    const m = await load(name);
    if (m !== null) lines.push(`  ${name.padEnd(10)} ${m.summary}`);
  }
  lines.push(`  ${'help'.padEnd(10)} this text`, `  ${'version'.padEnd(10)} print the version`, '', 'synack <command> --help for details.');
  return lines.join('\n') + '\n';
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined:
      // No command: the usage, as an error (a script calling `synack` by mistake should fail).
      process.stderr.write(await usage());
      return 2;
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(await usage());
      return 0;
    case 'version':
    case '--version':
      process.stdout.write('synack 0.1.0\n');
      return 0;
    default: {
      const m = (COMMANDS as readonly string[]).includes(cmd) ? await load(cmd) : null;
      if (m === null) {
        process.stderr.write(`synack: unknown command '${cmd}'\n` + (await usage()));
        return 2;
      }
      return m.run(rest);
    }
  }
}
