import { Controller, Get } from '@nestjs/common';
import { FragoOpenApi, type FragoOpenApiDocument } from 'nestjs-frago';

/** The OpenAPI 3.1 document of the upload operations, /api/openapi.json. */
@Controller('openapi.json')
export class OpenApiController {
  private readonly document: FragoOpenApiDocument;

  constructor(openApi: FragoOpenApi) {
    this.document = openApi.document({ basePath: '/api', title: 'nestjs-frago example app' });
  }

  @Get()
  serve(): FragoOpenApiDocument {
    return this.document;
  }
}
