import { Controller, Get, Header, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { readFileSync, readdirSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { extname, join } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.webmanifest': 'application/manifest+json',
};

/**
 * Everything from this origin and nothing else: no font, script or style from a
 * CDN can slip in, so the page works offline (and injected markup cannot run).
 */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** The page's files, read once at start: a fixed set, so no request path ever reaches the file system. */
const WEB_DIR = join(__dirname, '..', 'web');
const FILES = new Map(
  readdirSync(WEB_DIR)
    .filter((name) => TYPES[extname(name)])
    .map((name) => [name, { body: readFileSync(join(WEB_DIR, name)), type: TYPES[extname(name)]! }]),
);

/** The storefront page at `/` and the operator view at `/ops`: static files on the API's own origin. */
@ApiExcludeController()
@Controller()
export class StorefrontController {
  @Get()
  index(@Res() response: ServerResponse): void {
    send(response, 'index.html');
  }

  @Get('ops')
  ops(@Res() response: ServerResponse): void {
    send(response, 'ops.html');
  }

  @Get('web/:file')
  @Header('cache-control', 'no-cache')
  asset(@Param('file') file: string, @Res() response: ServerResponse): void {
    if (!FILES.has(file) || file.endsWith('.html')) throw new NotFoundException(`Cannot GET /web/${file}`);
    send(response, file);
  }
}

function send(response: ServerResponse, name: string): void {
  const file = FILES.get(name)!;
  response.writeHead(200, {
    'content-type': file.type,
    'content-length': file.body.length,
    'cache-control': 'no-cache',
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  });
  response.end(file.body);
}
