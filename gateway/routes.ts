// Mounts every service of the public API. A capability that is built passes its handler
// in; every RPC it does not implement answers UNIMPLEMENTED.
import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter, ServiceImpl } from "@connectrpc/connect";
import { productServices, type ProductHandlers } from "../services/app/product-services.js";

export function productRoutes(handlers: ProductHandlers): (router: ConnectRouter) => void {
  return (router) => {
    for (const service of productServices) {
      const impl = (handlers as Record<string, Partial<ServiceImpl<DescService>> | undefined>)[service.typeName] ?? {};
      router.service(service as DescService, impl);
    }
  };
}
