import type { INodeProperties } from 'n8n-workflow';

import { operationProperty } from './shared';

export const accountOperations: INodeProperties[] = [operationProperty('account')];
