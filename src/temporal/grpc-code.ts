import type { status } from '@grpc/grpc-js';
import { ServiceError, isGrpcServiceError } from '@temporalio/client';

/** Whether a client call failed with the server's gRPC status `code`. */
export const isGrpcCode = (error: unknown, code: status): boolean =>
  error instanceof ServiceError && isGrpcServiceError(error.cause) && error.cause.code === code;
