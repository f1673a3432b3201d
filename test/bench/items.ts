/** The items every benchmark run issues: the same keys and amounts for the node and for the peer client. */
export interface BenchItem {
	key: string;
	amount: number;
}

export const CURRENCY = 'USD';

export function benchItems(count: number, prefix = 'bench'): BenchItem[] {
	return Array.from({ length: count }, (_, index) => ({
		key: `${prefix}-${index}`,
		amount: 10 + (index % 5),
	}));
}
