export { ResponseCache, cacheKey } from './responseCache';
export type { CacheStats, ResponseCacheOptions } from './responseCache';
export { cacheability } from './cacheability';
export type { Cacheability, NotCacheableReason } from './cacheability';
export { createCacheHandler } from './cacheHandler';
export type { CacheHandlerOptions } from './cacheHandler';
