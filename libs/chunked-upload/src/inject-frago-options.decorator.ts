import { Inject } from '@nestjs/common';
import { FRAGO_OPTIONS } from './chunked-upload.constants';

/** Injects the resolved module options (`ResolvedChunkedUploadOptions`). @publicApi */
export const InjectFragoOptions = (): ParameterDecorator => Inject(FRAGO_OPTIONS);
