import { replayCommand } from '@orderflow/service-kit';
import { paymentService } from './service';

replayCommand(paymentService);
