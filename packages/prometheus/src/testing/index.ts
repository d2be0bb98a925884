/**
 * Test helpers for code that serves memshed's metrics (`@memshed/prometheus/testing`): read a
 * scrape back as numbers.
 */
export { samples } from './exposition';
