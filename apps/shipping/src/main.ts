import { main } from '@orderflow/service-kit';
import { shippingService } from './service';

main(shippingService);
