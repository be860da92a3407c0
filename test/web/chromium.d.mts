import type { BrowserContext, BrowserType, Page } from 'playwright-core';

export declare const CHROMIUM: string;
export declare const CHROMIUM_ARGS: string[];
export declare function launchChromium(
  chromium: BrowserType,
): Promise<{ context: BrowserContext; page: Page; close(): Promise<void> }>;
