import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { redisSettingsFromEnvironment } from '../../nodes/AmazonIncentives/transport/redisConnection';

describe('which Redis the shared budget uses', () => {
	it('none for a single n8n process, and none when turned off', () => {
		expect(redisSettingsFromEnvironment({})).toMatchObject({ kind: 'off' });
		expect(redisSettingsFromEnvironment({ EXECUTIONS_MODE: 'regular' })).toMatchObject({
			kind: 'off',
		});
		expect(
			redisSettingsFromEnvironment({
				EXECUTIONS_MODE: 'queue',
				AMAZON_INCENTIVES_SHARED_BUDGET: 'off',
				AMAZON_INCENTIVES_REDIS_URL: 'redis://elsewhere:6379',
			}),
		).toEqual({ kind: 'off', reason: 'AMAZON_INCENTIVES_SHARED_BUDGET is off' });
	});

	it("n8n's queue Redis with n8n's defaults in queue mode", () => {
		expect(redisSettingsFromEnvironment({ EXECUTIONS_MODE: 'queue' })).toEqual({
			kind: 'standalone',
			options: { host: 'localhost', port: 6379, db: 0 },
			description: "n8n's queue Redis localhost:6379/0",
		});
	});

	it("n8n's queue settings, read as n8n reads them (quotes stripped, <NAME>_FILE, booleans)", () => {
		const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'agcod-redis-settings-'));
		try {
			const passwordFile = path.join(folder, 'password');
			fs.writeFileSync(passwordFile, 's3cret\n');
			const settings = redisSettingsFromEnvironment({
				EXECUTIONS_MODE: 'queue',
				QUEUE_BULL_REDIS_HOST: '"redis.internal"',
				QUEUE_BULL_REDIS_PORT: '6380',
				QUEUE_BULL_REDIS_DB: '2',
				QUEUE_BULL_REDIS_USERNAME: 'n8n',
				QUEUE_BULL_REDIS_PASSWORD_FILE: passwordFile,
				QUEUE_BULL_REDIS_TLS: 'true',
				QUEUE_BULL_REDIS_TLS_SERVERNAME: 'redis.example.com',
				QUEUE_BULL_REDIS_TLS_VALIDATE_CERTIFICATE: 'false',
				QUEUE_BULL_REDIS_DUALSTACK: '1',
			});
			expect(settings).toEqual({
				kind: 'standalone',
				options: {
					host: 'redis.internal',
					port: 6380,
					db: 2,
					username: 'n8n',
					password: 's3cret',
					family: 0,
					tls: { servername: 'redis.example.com', rejectUnauthorized: false },
				},
				description: "n8n's queue Redis redis.internal:6380/2 (TLS)",
			});
			// The description is what messages show: never the password.
			expect(JSON.stringify(settings.kind !== 'off' && settings.description)).not.toContain(
				's3cret',
			);
		} finally {
			fs.rmSync(folder, { recursive: true, force: true });
		}
	});

	it("n8n's cluster nodes", () => {
		expect(
			redisSettingsFromEnvironment({
				EXECUTIONS_MODE: 'queue',
				QUEUE_BULL_REDIS_CLUSTER_NODES: 'r1:7000, r2:7001',
				QUEUE_BULL_REDIS_PASSWORD: 'pw',
			}),
		).toEqual({
			kind: 'cluster',
			nodes: [
				{ host: 'r1', port: 7000 },
				{ host: 'r2', port: 7001 },
			],
			options: { db: 0, password: 'pw' },
			description: "n8n's queue Redis cluster r1:7000,r2:7001",
		});
	});

	it('an explicit URL in any mode, described without its password', () => {
		expect(
			redisSettingsFromEnvironment({
				AMAZON_INCENTIVES_REDIS_URL: 'rediss://user:pa55@redis.example.com:6380/1',
			}),
		).toEqual({
			kind: 'url',
			url: 'rediss://user:pa55@redis.example.com:6380/1',
			description: 'rediss://user:***@redis.example.com:6380/1',
		});
	});
});
