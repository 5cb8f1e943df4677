import type { GitRepos, CommitResult } from './git-repos.js';
import type { ServiceModel } from './model.js';
import { previousImage } from './bootstrap.js';
import type { World } from './world.js';

const DAY = 86_400_000;
const AUTHORS = ['alice', 'bob', 'carol', 'dmitri', 'erin', 'farah'];

/** A deterministic author for a commit nobody named. */
export function pickAuthor(world: World): string {
  return world.random.stream('authors').pick(AUTHORS);
}

/** The e-mail of an author, in the estate's domain. */
export function emailOf(world: World, author: string): string {
  return `${author.toLowerCase().replace(/[^a-z0-9.-]+/g, '.')}@${world.estate.name}.example`;
}

function tagOf(image: string): string {
  return image.includes(':') ? (image.split(':').pop() ?? 'latest') : 'latest';
}

/** `deploy/values.yaml` for an image. */
export function valuesFile(model: ServiceModel, image: string): string {
  const [repository] = image.split(':');
  return [
    `# Helm values for ${model.name}`,
    'image:',
    `  repository: ${repository ?? image}`,
    `  tag: "${tagOf(image)}"`,
    `replicaCount: ${model.replicas}`,
    'resources:',
    '  requests:',
    `    cpu: ${Math.round(model.baseline.cpu * 1000)}m`,
    `    memory: ${Math.round(model.baseline.memoryMi)}Mi`,
    '  limits:',
    `    cpu: ${Math.round(model.limits.cpu * 1000)}m`,
    `    memory: ${Math.round(model.limits.memoryMi)}Mi`,
    '',
  ].join('\n');
}

function initialFiles(model: ServiceModel, image: string): Record<string, string> {
  return {
    'README.md': `# ${model.name}\n\nOwned by ${model.spec.owner ?? 'the platform team'}. Depends on: ${model.dependsOn.join(', ') || 'nothing'}.\n`,
    'src/server.ts': [
      `// ${model.name}: HTTP entry point`,
      "import { createServer } from 'node:http';",
      "import { handle } from './handlers.js';",
      '',
      `createServer(handle).listen(Number(process.env.PORT ?? ${model.port}));`,
      '',
    ].join('\n'),
    'src/handlers.ts': [
      `// request handlers of ${model.name}`,
      'export function handle(request, response) {',
      "  response.setHeader('content-type', 'application/json');",
      '  response.end(JSON.stringify({ ok: true }));',
      '}',
      '',
    ].join('\n'),
    'deploy/values.yaml': valuesFile(model, image),
  };
}

/** Creates each service's repository with a short history ending at the image it runs now. */
export async function initRepositories(world: World, repos: GitRepos): Promise<void> {
  const start = world.startedAt();
  const work: Array<Promise<string>> = [];
  for (const model of world.models.values()) {
    if (!model.repo) continue;
    const author = pickAuthor(world);
    const old = previousImage(model.image);
    const base = initialFiles(model, old);
    work.push(
      repos.create(model.repo, [
        {
          message: `Initial import of ${model.name}`,
          author,
          email: emailOf(world, author),
          at: start - 30 * DAY,
          files: base,
        },
        {
          message: `Release ${tagOf(old)}`,
          author,
          email: emailOf(world, author),
          at: start - 9 * DAY,
          files: {
            'src/handlers.ts': `${base['src/handlers.ts'] ?? ''}// ${tagOf(old)}: tidy error handling\n`,
          },
        },
        {
          message: `Release ${tagOf(model.image)}`,
          author,
          email: emailOf(world, author),
          at: start - 2 * DAY,
          files: { 'deploy/values.yaml': valuesFile(model, model.image) },
        },
      ]),
    );
  }
  await Promise.all(work);
}

/** Commits a deploy: the image tag in deploy/values.yaml plus the files the change names. */
export async function commitDeploy(
  world: World,
  repos: GitRepos,
  model: ServiceModel,
  image: string,
  message: string,
  author: string,
  files: Record<string, string> | undefined,
): Promise<CommitResult | undefined> {
  if (!model.repo) return undefined;
  const changed: Record<string, string> = {
    'deploy/values.yaml': valuesFile(model, image),
    ...(files ?? {}),
  };
  if (!files) {
    const handlers = repos.file(model.repo, 'src/handlers.ts') ?? '';
    changed['src/handlers.ts'] = `${handlers}// ${tagOf(image)}: ${message}\n`;
  }
  return repos.commit(model.repo, {
    message,
    author,
    email: emailOf(world, author),
    at: world.now(),
    files: changed,
  });
}
