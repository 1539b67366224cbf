// The `synack` command line. Node-only (it may import node: modules).
const USAGE = `usage: synack <command> [options]

commands:
  help                 this text
  version              print the version
`;

export async function main(argv: string[]): Promise<number> {
  const [cmd] = argv;
  switch (cmd) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    case 'version':
    case '--version':
      process.stdout.write('synack 0.1.0\n');
      return 0;
    default:
      process.stderr.write(`synack: unknown command '${cmd}'\n${USAGE}`);
      return 2;
  }
}
