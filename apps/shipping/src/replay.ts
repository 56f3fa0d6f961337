import { replayCommand } from '@orderflow/service-kit';
import { shippingService } from './service';

replayCommand(shippingService);
