import { replayCommand } from '@orderflow/service-kit';
import { ordersService } from './service';

replayCommand(ordersService);
