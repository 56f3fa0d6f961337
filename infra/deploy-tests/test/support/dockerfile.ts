import { DockerfileParser } from 'dockerfile-ast';
import { readRepoFile } from './repo';

export interface Instruction {
  keyword: string;
  /** Arguments as written, continuation lines joined. */
  args: string;
  /** Flags such as `--from=build` for COPY. */
  flags: Record<string, string>;
  line: number;
}

export interface Stage {
  name: string | undefined;
  from: string;
  instructions: Instruction[];
  /** ARG defaults declared in the stage (in scope for the instructions after them). */
  args: Record<string, string | undefined>;
}

export interface Dockerfile {
  text: string;
  /** ARGs declared before the first FROM: in scope for FROM lines only. */
  globalArgs: Record<string, string | undefined>;
  stages: Stage[];
}

function parseArg(args: string): [string, string | undefined] {
  const eq = args.indexOf('=');
  return eq < 0 ? [args.trim(), undefined] : [args.slice(0, eq).trim(), args.slice(eq + 1).trim()];
}

/** The Dockerfile's stages and instructions, through dockerfile-ast (the parser of the VS Code Docker tooling). */
export function parseDockerfile(text = readRepoFile('Dockerfile')): Dockerfile {
  const parsed = DockerfileParser.parse(text);
  const globalArgs: Record<string, string | undefined> = {};
  const stages: Stage[] = [];
  for (const instruction of parsed.getInstructions()) {
    const keyword = instruction.getKeyword().toUpperCase();
    const flags: Record<string, string> = {};
    const withFlags = instruction as unknown as { getFlags?: () => { getName(): string; getValue(): string | null }[] };
    for (const flag of withFlags.getFlags?.() ?? []) flags[flag.getName()] = flag.getValue() ?? '';
    const raw = (instruction.getArgumentsContent() ?? '').replace(/\\\r?\n/g, ' ');
    const args = raw.replace(/^(\s*--[a-z-]+(=\S*)?\s+)+/, '').trim();
    const entry: Instruction = { keyword, args, flags, line: instruction.getRange().start.line + 1 };
    if (keyword === 'FROM') {
      const [image, as, name] = args.split(/\s+/);
      stages.push({ name: as?.toUpperCase() === 'AS' ? name : undefined, from: image ?? '', instructions: [entry], args: {} });
    } else if (stages.length === 0) {
      if (keyword === 'ARG') {
        const [name, value] = parseArg(args);
        globalArgs[name] = value;
      }
    } else {
      const stage = stages[stages.length - 1]!;
      stage.instructions.push(entry);
      if (keyword === 'ARG') {
        const [name, value] = parseArg(args);
        stage.args[name] = value ?? globalArgs[name];
      }
    }
  }
  return { text, globalArgs, stages };
}

/** Expands `${NAME}` and `$NAME` from `vars`; an unknown variable is an error, never an empty string. */
export function expand(value: string, vars: Record<string, string | undefined>): string {
  return value.replace(/\$\{(\w+)\}|\$(\w+)/g, (_match, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? '';
    const resolved = vars[name];
    if (resolved === undefined) throw new Error(`\${${name}} has no value`);
    return resolved;
  });
}

export function stage(dockerfile: Dockerfile, name: string): Stage {
  const found = dockerfile.stages.find((s) => s.name === name);
  if (!found) throw new Error(`the Dockerfile has no stage "${name}"`);
  return found;
}

export function instructions(s: Stage, keyword: string): Instruction[] {
  return s.instructions.filter((i) => i.keyword === keyword);
}

/** The JSON array of an exec-form instruction (CMD ["node", "x"]), or undefined for shell form. */
export function execForm(args: string): string[] | undefined {
  const trimmed = args.trim();
  if (!trimmed.startsWith('[')) return undefined;
  const parsed = JSON.parse(trimmed) as unknown;
  return Array.isArray(parsed) && parsed.every((a): a is string => typeof a === 'string') ? parsed : undefined;
}

/** `COPY [--flags] <src>... <dest>`: sources and destination. */
export function copyPaths(instruction: Instruction): { sources: string[]; dest: string } {
  const parts = execForm(instruction.args) ?? instruction.args.split(/\s+/);
  return { sources: parts.slice(0, -1), dest: parts[parts.length - 1]! };
}
