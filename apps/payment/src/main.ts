import { main } from '@orderflow/service-kit';
import { paymentService } from './service';

main(paymentService);
