import { runDemo } from './demo';

// `npm start`: node examples/demo/dist/main.js [--fast] [--speed X] [--out FILE]
const args = process.argv.slice(2);
const option = (name: string) => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
};
const speed = args.includes('--fast') ? Infinity : Number(option('--speed') ?? 40);

runDemo({ speed: speed > 0 ? speed : 40, out: option('--out') }).then(
  (result) => {
    process.exitCode = result.finalState === 'normal' && result.oomKills === 0 ? 0 : 1;
  },
  (error: unknown) => {
    console.error('memshed demo failed:', error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
