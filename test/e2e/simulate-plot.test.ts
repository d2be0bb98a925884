/**
 * Renders the plot of `memshed simulate` in a real browser (headless Chromium through
 * playwright-core) and checks the pixels: a picture has to be looked at, not just parsed. The
 * screenshot is kept in the temporary directory for a person to look at (its path is printed).
 */
import { Simulation, STATE_COLORS, renderPlotHtml } from '@memshed/source-vmscan-sim';
import { existsSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

jest.setTimeout(120_000);

describe('memshed simulate --plot, rendered in Chromium', () => {
  if (!existsSync(CHROMIUM)) {
    it('is skipped: no Chromium at /usr/bin/chromium', () => {
      process.stderr.write(
        `SKIPPED simulate-plot rendering test: ${CHROMIUM} is missing. ` +
          "Install Debian's chromium package (apt-get install chromium) to render and check the plot.\n",
      );
    });
    return;
  }

  let browser: Browser;
  let dir: string;
  beforeAll(async () => {
    dir = join(tmpdir(), `memshed-plot-render-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('draws the ramp: every state band in its colour, the usage line, at full size', async () => {
    const simulation = await Simulation.create({ scenario: 'ramp' });
    const records = await simulation.run();
    await simulation.stop();
    const file = join(dir, 'ramp.html');
    writeFileSync(file, renderPlotHtml(records));

    const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
    await page.goto(pathToFileURL(file).href);
    const svg = page.locator('svg').first();
    const box = await svg.boundingBox();
    expect(box?.width).toBeGreaterThanOrEqual(1000);
    expect(box?.height).toBeGreaterThanOrEqual(600);

    const ribbon = await page.locator('#state-ribbon').boundingBox();
    expect(ribbon).not.toBeNull();
    const png = await svg.screenshot({ path: join(dir, 'ramp.png') });
    process.stderr.write(`plot screenshot: ${join(dir, 'ramp.png')}\n`);

    // Count the screenshot's pixels of each colour, decoding the PNG in the browser itself.
    const wanted = {
      ...STATE_COLORS,
      usage: '#1e3a8a',
      limit: '#dc2626',
    };
    const counts = await page.evaluate(
      async ({ data, colours, area }) => {
        // Runs in the page: the DOM's types are not in this project's lib, so name what is used.
        const page = globalThis as unknown as {
          createImageBitmap(blob: Blob): Promise<{ width: number; height: number }>;
          OffscreenCanvas: new (
            width: number,
            height: number,
          ) => {
            getContext(kind: '2d'): {
              drawImage(image: unknown, x: number, y: number): void;
              getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
            };
          };
        };
        const image = await page.createImageBitmap(
          await (await fetch(`data:image/png;base64,${data}`)).blob(),
        );
        const canvas = new page.OffscreenCanvas(image.width, image.height);
        const context = canvas.getContext('2d');
        context.drawImage(image, 0, 0);
        const pixels = context.getImageData(0, 0, image.width, image.height).data;
        const result: Record<string, number> = {};
        const ribbon: Record<string, number> = {};
        const targets = Object.entries(colours).map(([name, hex]) => {
          result[name] = 0;
          ribbon[name] = 0;
          const value = parseInt(hex.slice(1), 16);
          return { name, r: value >> 16, g: (value >> 8) & 255, b: value & 255 };
        });
        for (let i = 0; i < pixels.length; i += 4) {
          const x = (i / 4) % image.width;
          const y = Math.floor(i / 4 / image.width);
          const inRibbon = x >= area.x && x < area.x + area.width && y >= area.y && y < area.y + area.height;
          for (const t of targets) {
            if (pixels[i] === t.r && pixels[i + 1] === t.g && pixels[i + 2] === t.b) {
              result[t.name]++;
              if (inRibbon) ribbon[t.name]++;
            }
          }
        }
        return { result, ribbon, width: image.width, height: image.height };
      },
      {
        data: png.toString('base64'),
        colours: wanted,
        // The ribbon's box in the screenshot's pixels (the screenshot starts at the SVG's corner).
        area: { x: ribbon!.x - box!.x, y: ribbon!.y - box!.y, width: ribbon!.width, height: ribbon!.height },
      },
    );
    await page.close();

    expect(counts.width).toBeGreaterThanOrEqual(1000);
    // The ribbon paints each state the run went through in its exact colour, in proportion to
    // its time (critical lasts only seconds of the ten minutes: a sliver, but there).
    const ribbonPixels = Math.round(ribbon!.width) * Math.round(ribbon!.height);
    expect(counts.ribbon.normal).toBeGreaterThan(ribbonPixels * 0.3);
    expect(counts.ribbon.low).toBeGreaterThan(ribbonPixels * 0.1);
    expect(counts.ribbon.medium).toBeGreaterThan(ribbonPixels * 0.05);
    expect(counts.ribbon.critical).toBeGreaterThan(40);
    expect(counts.ribbon.usage).toBe(0);
    // The usage line and the dashed limit are drawn well beyond their legend swatches.
    expect(counts.result.usage).toBeGreaterThan(1000);
    expect(counts.result.limit).toBeGreaterThan(200);
  });
});
