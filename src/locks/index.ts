export * from './types.js';
export { createRedisHostLock, createRedisMutex, DEFAULT_KEY_PREFIX, type RedisHostLockOptions, type RedisLockOptions } from './redis.js';
export { createRedisRwLock, type ReadWriteLock } from './rwlock.js';
export { createRedisSemaphore, type Semaphore } from './semaphore.js';
export { createLocalHostLock } from './local.js';
export { type RedisConnectOptions } from './connection.js';
