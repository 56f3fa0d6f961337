import { main } from '@orderflow/service-kit';
import { inventoryService } from './service';

main(inventoryService);
