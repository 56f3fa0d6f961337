import { main } from '@orderflow/service-kit';
import { ordersService } from './service';

main(ordersService);
