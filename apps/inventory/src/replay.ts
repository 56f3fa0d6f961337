import { replayCommand } from '@orderflow/service-kit';
import { inventoryService } from './service';

replayCommand(inventoryService);
