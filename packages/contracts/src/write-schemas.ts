// `npm run schemas -w @orderflow/contracts`: writes schemas/<EventType>.v<version>.json
// from the catalog, refusing any change that is not backward compatible.
import { SCHEMAS_DIR, writeSchemaFiles } from './schema-files';

const { written, unchanged, refused } = writeSchemaFiles(SCHEMAS_DIR);
for (const file of written) console.log(`wrote schemas/${file}`);
console.log(`${written.length} written, ${unchanged.length} unchanged, in ${SCHEMAS_DIR}`);
if (refused.length) {
  console.error(`\nNot written, because the change is not backward compatible:\n  ${refused.join('\n  ')}`);
  process.exitCode = 1;
}
